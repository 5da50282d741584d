import { Topics } from '../../topics';
import { defineEvent } from '../envelope';
import type { OrganizationSnapshot } from '../../organization/organization.types';

/** The account's organisation (seller requisites) changed. Key: the account id. */
export const OrganizationUpdated = defineEvent<OrganizationSnapshot, 'organization.updated'>('organization.updated', 1, Topics.contractors);
