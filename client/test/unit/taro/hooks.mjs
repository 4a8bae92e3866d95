// The module hook register.mjs installs.
const STAND_INS = {
  "@tarojs/taro": new URL("./taro.mjs", import.meta.url).href,
  "@tarojs/components": new URL("./components.mjs", import.meta.url).href,
};

export async function resolve(specifier, context, next) {
  if (specifier in STAND_INS) return { url: STAND_INS[specifier], shortCircuit: true };
  if (/^\.\.?\//.test(specifier) && !/\.[cm]?js$/.test(specifier) && context.parentURL?.endsWith(".mjs")) {
    return next(`${specifier}.mjs`, context);
  }
  return next(specifier, context);
}
