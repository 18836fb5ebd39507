import { ValidationPipe, type ValidationError } from '@nestjs/common';
import { InvalidArgumentError } from '@cloudstore/contracts';

function describe(errors: ValidationError[], parent = ''): string[] {
  return errors.flatMap((error) => {
    const path = parent ? `${parent}.${error.property}` : error.property;
    return [
      ...Object.values(error.constraints ?? {}).map((message) => message.replace(error.property, path)),
      ...describe(error.children ?? [], path),
    ];
  });
}

/** Checks REST bodies and queries against their DTO classes; a mismatch is INVALID_ARGUMENT naming the fields. */
export function createValidationPipe(): ValidationPipe {
  return new ValidationPipe({
    transform: true,
    whitelist: true,
    exceptionFactory: (errors) => new InvalidArgumentError(describe(errors).join('; ') || 'The request is not valid'),
  });
}
