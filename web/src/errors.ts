// What the API's errors mean for a form: each VALIDATION error next to the field its extensions.field names, the
// rest shown above the form. Nothing is dropped: an error that names no known field is shown as a general one.
import type { CombinedError } from '@urql/core';

export interface GraphQLErrorLike {
  message: string;
  extensions?: Readonly<Record<string, unknown>> | undefined;
}

export interface ErrorLike {
  graphQLErrors: readonly GraphQLErrorLike[];
  networkError?: Error | undefined;
  message: string;
}

export interface FormErrors {
  /** Field path as the API names it without the `input.` prefix ("cpf", "address.zipCode") -> message. */
  fields: Record<string, string>;
  /** Errors that belong to no field of the form: shown above it. */
  general: string[];
}

export function errorCodes(error: ErrorLike | null | undefined): string[] {
  return (error?.graphQLErrors ?? []).flatMap((e) => {
    const code = e.extensions?.['code'];
    return typeof code === 'string' ? [code] : [];
  });
}

export function isUnauthenticated(error: ErrorLike | null | undefined): boolean {
  return errorCodes(error).includes('UNAUTHENTICATED');
}

/** The API's field path as the form names it: "input.address.zipCode" -> "address.zipCode". */
export function normalizeField(field: string): string {
  return field.replace(/^input\./, '');
}

/**
 * Split an error between the form's fields and the general messages. `knownFields` are the fields the form shows;
 * a field error for any other field is general (with the field named), so it is never swallowed.
 */
export function formErrors(error: ErrorLike | null | undefined, knownFields: readonly string[]): FormErrors {
  const result: FormErrors = { fields: {}, general: [] };
  if (!error) {
    return result;
  }
  if (error.networkError) {
    result.general.push(error.networkError.message || error.message);
  }
  for (const graphQLError of error.graphQLErrors) {
    const rawField = graphQLError.extensions?.['field'];
    const field = typeof rawField === 'string' ? normalizeField(rawField) : null;
    if (field !== null && knownFields.includes(field)) {
      const existing = result.fields[field];
      result.fields[field] = existing ? `${existing} ${graphQLError.message}` : graphQLError.message;
    } else if (field !== null) {
      result.general.push(`${field}: ${graphQLError.message}`);
    } else {
      result.general.push(graphQLError.message);
    }
  }
  if (result.general.length === 0 && Object.keys(result.fields).length === 0) {
    result.general.push(error.message);
  }
  return result;
}

/** One line for an error outside a form. */
export function errorMessage(error: CombinedError | ErrorLike): string {
  const messages = error.graphQLErrors.map((e) => e.message);
  if (error.networkError) {
    messages.unshift(error.networkError.message);
  }
  return messages.length > 0 ? messages.join('; ') : error.message;
}
