// Composition root: to be written.
export {};
