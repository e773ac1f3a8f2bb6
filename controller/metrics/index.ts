export * from './histogram';
export * from './aggregate';
