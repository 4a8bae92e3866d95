// The part of @tarojs/taro the hooks use, declared here so that building
// the package needs neither Taro nor its peer dependencies (webpack, vue,
// ...). The emitted declarations never name these types.
declare module "@tarojs/taro" {
  interface Taro {
    getEnterOptionsSync(): { shareTicket?: string };
    getShareInfo(options: {
      shareTicket: string;
      success(res: { encryptedData: string; iv: string; cloudID?: string }): void;
      fail(err: { errMsg: string; errno?: number }): void;
    }): unknown;
  }
  const Taro: Taro;
  export default Taro;
  export function useDidShow(callback: () => void): void;
  export function useDidHide(callback: () => void): void;
}
