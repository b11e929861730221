// asl-validator 4 ships no types: the shape its README documents.
declare module 'asl-validator' {
  interface AslValidation {
    isValid: boolean;
    errors: Array<Record<string, unknown>>;
    errorsText(separator?: string): string;
  }
  function aslValidator(
    definition: unknown,
    options?: { checkPaths?: boolean; checkArn?: boolean },
  ): AslValidation;
  export = aslValidator;
}
