/** fs-native-extensions has no type declarations; `lock-kinds.ts` types the calls it uses (`ByteRangeCalls`). */
declare module 'fs-native-extensions';
