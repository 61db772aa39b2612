// asl-validator 4 ships JavaScript only; the part of its API the workflow test uses.
declare module 'asl-validator' {
  interface AslValidatorResult {
    isValid: boolean;
    errors: { 'Error code'?: string; Message?: string; [key: string]: unknown }[];
  }
  function aslValidator(definition: unknown, options?: { checkPaths?: boolean; checkArn?: boolean }): AslValidatorResult;
  export = aslValidator;
}
