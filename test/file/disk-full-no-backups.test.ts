/**
 * A really full disk (a private tmpfs, no mocks) under the file backend with backups off:
 * every kind of write (see `disk-full.test.ts` for the default setup and what each case checks).
 */
import { describeFileDiskFull, fileSetup, inodeFill, spaceFill } from './disk-full-setup.js';

describeFileDiskFull(fileSetup('file (no backups)', false), [
  spaceFill(0),
  spaceFill(1),
  spaceFill(3),
  inodeFill(0),
]);
