// The one timer the client uses; wx, Taro and Node all have it.
declare function setTimeout(callback: () => void, ms: number): unknown;
