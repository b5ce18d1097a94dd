// The base of the pure parsers' and envelope's errors: a closed, typed code and a sentence a person
// can act on — never the input, key material or plaintext. Modules map them to AppError by code.
export class CodedError<Code extends string> extends Error {
  readonly code: Code;

  constructor(code: Code, message: string) {
    super(message);
    this.name = new.target.name;
    this.code = code;
  }
}
