// Errors that mean "bad usage or input" (exit status 2): every module that
// rejects a user's input throws a subclass, and the CLI reports its message
// and exits 2 without a stack trace. Anything else is a bug and is rethrown.
export class InputError extends Error {}
