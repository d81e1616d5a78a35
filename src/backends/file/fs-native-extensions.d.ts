/** The part of fs-native-extensions (no type declarations of its own) that `lock-kinds.ts` uses. */
declare module 'fs-native-extensions' {
  /** The package's functions used here. */
  export interface FsNativeExtensions {
    /** Locks `length` bytes at `offset` of `fd` (exclusive unless `shared`); false when another holder has them. */
    tryLock(fd: number, offset?: number, length?: number, options?: { shared?: boolean }): boolean;
    /** Frees a lock taken with `tryLock`. */
    unlock(fd: number, offset?: number, length?: number): void;
  }
  const extensions: FsNativeExtensions;
  export default extensions;
}
