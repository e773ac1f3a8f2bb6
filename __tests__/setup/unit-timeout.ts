/** Unit files are in-process: a test that takes longer than this is waiting on something it should not. */
jest.setTimeout(30_000);
