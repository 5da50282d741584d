import { plainToInstance } from 'class-transformer';
import { validateSync, type ValidationError } from 'class-validator';
import { CreateTemplateDto, ListTemplatesQuery, RESERVED_MASK_IDS } from './documents.dto';

/** `{ "masks.0.id": [messages] }`, as the service's validation pipe names nested fields. */
function errorsOf<T extends object>(cls: new () => T, plain: object): Record<string, string[]> {
  const out: Record<string, string[]> = {};
  const walk = (errors: ValidationError[], parent: string) => {
    for (const e of errors) {
      const path = parent ? `${parent}.${e.property}` : e.property;
      if (e.constraints) out[path] = Object.values(e.constraints);
      if (e.children?.length) walk(e.children, path);
    }
  };
  walk(validateSync(plainToInstance(cls, plain) as object, { whitelist: true, forbidNonWhitelisted: true }), '');
  return out;
}

describe(CreateTemplateDto.name, () => {
  const template = (ids: string[]) => ({ name: 'Шаблон', filename: 'a1b2c3d4e5.html', masks: ids.map((id) => ({ id, name: id, type: 'string' })) });

  it.each(RESERVED_MASK_IDS)('refuses the reserved mask id %s, naming masks[i].id and the reserved names', (id) => {
    const errors = errorsOf(CreateTemplateDto, template(['number', id]));
    expect(Object.keys(errors)).toEqual(['masks.1.id']);
    expect(errors['masks.1.id']![0]).toContain(`"${id}" is reserved`);
    expect(errors['masks.1.id']![0]).toContain('contractor, document, organization, masks');
  });

  it('takes other names, those only like the reserved ones too', () => {
    expect(errorsOf(CreateTemplateDto, template(['number', 'contractorName', 'Document', 'masks_2']))).toEqual({});
  });
});

describe(ListTemplatesQuery.name, () => {
  it('validates page/size and limit/offset as every list does', () => {
    expect(Object.keys(errorsOf(ListTemplatesQuery, { size: 'abc' }))).toEqual(['size']);
    expect(Object.keys(errorsOf(ListTemplatesQuery, { page: '0', limit: '201' }))).toEqual(['page', 'limit']);
    expect(errorsOf(ListTemplatesQuery, { page: '2', size: '1' })).toEqual({});
    expect(Object.keys(errorsOf(ListTemplatesQuery, { other: '1' }))).toEqual(['other']);
  });
});
