/**
 * How many bank accounts and contacts one contractor may have. Every contractor event carries
 * them all (each bank account with its looked-up `fullInfo`, about 5 KB), so these keep a
 * contractor event well under the broker's 1 MiB `message.max.bytes`: at the limits and at the
 * DTOs' longest fields it is about 450 KB, before compression. Above them: 409
 * `CONTRACTOR_LIMIT_REACHED` naming `bankInfo` or `contactInfo`.
 */
export const MAX_BANK_ACCOUNTS_PER_CONTRACTOR = 50;
export const MAX_CONTACTS_PER_CONTRACTOR = 100;
