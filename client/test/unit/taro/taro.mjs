// A minimal @tarojs/taro: its default export is the platform the test
// sets (the mock platform), useDidShow and useDidHide run what a page
// registered when the test shows or hides it, useRouter gives the params
// the test sets.
import { useEffect, useRef } from "react";

const page = { platform: undefined, show: new Set(), hide: new Set(), params: {} };

/** Sets what Taro's APIs are (a mock platform) and the page's router params; forgets the page's hooks. */
export function openPage(platform, params = {}) {
  Object.assign(page, { platform, params });
  page.show.clear();
  page.hide.clear();
}

/** The page's onShow: every useDidShow callback registered. */
export const show = () => page.show.forEach((f) => f());
export const hide = () => page.hide.forEach((f) => f());

function lifecycle(set, callback) {
  const latest = useRef(callback);
  latest.current = callback;
  useEffect(() => {
    const f = () => latest.current();
    set.add(f);
    return () => set.delete(f);
  }, []);
}

export const useDidShow = (callback) => lifecycle(page.show, callback);
export const useDidHide = (callback) => lifecycle(page.hide, callback);
export const useRouter = () => ({ params: page.params, path: "" });

const Taro = new Proxy({}, { get: (_, key) => page.platform?.[key] });
export default Taro;
