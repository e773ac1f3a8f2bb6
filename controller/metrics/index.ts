export * from '../../src/measure/histogram';
export * from './aggregate';
