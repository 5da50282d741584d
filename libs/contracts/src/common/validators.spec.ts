import { plainToInstance } from 'class-transformer';
import { validateSync } from 'class-validator';
import { ConstructorDto } from '../documents/documents.dto';
import { UpdateInteractionDto } from '../interactions/interactions.dto';

const fieldsWithErrors = <T extends object>(cls: new () => T, plain: object) =>
  validateSync(plainToInstance(cls, plain) as object, { whitelist: true, forbidNonWhitelisted: true }).map((e) => e.property);

describe('IsOmittable', () => {
  const ctor = { type: 'Счёт', name: 'Счёт № 1', contractor: '7d3c1f7e-1a2b-4c3d-8e9f-0a1b2c3d4e5f' };

  it('lets the constructor leave sum out, and rejects "sum": null naming sum', () => {
    expect(fieldsWithErrors(ConstructorDto, ctor)).toEqual([]);
    expect(fieldsWithErrors(ConstructorDto, { ...ctor, sum: 100.5 })).toEqual([]);
    expect(fieldsWithErrors(ConstructorDto, { ...ctor, sum: null })).toEqual(['sum']);
  });

  it('does the same for PATCH interactions, as the create does', () => {
    expect(fieldsWithErrors(UpdateInteractionDto, { name: 'Этап 2' })).toEqual([]);
    expect(fieldsWithErrors(UpdateInteractionDto, { sum: '75000' })).toEqual([]);
    expect(fieldsWithErrors(UpdateInteractionDto, { sum: null })).toEqual(['sum']);
  });
});
