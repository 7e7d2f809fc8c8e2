// The forward stage. The one-attempt primitive lives in dispatch.ts and is re-exported here.
export * from './dispatch.js';
