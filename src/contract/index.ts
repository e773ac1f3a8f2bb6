export * from './errors';
export * from './task';
export * from './define';
export * from './api';
export * from './protocol';
export * from './signing';
export * from './redact';
export * from './origin';
