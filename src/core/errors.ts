/** Domain errors that the storage layer raises; services translate them to AWS errors. */
export class ConflictError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ConflictError';
  }
}
