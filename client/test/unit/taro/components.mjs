// A minimal @tarojs/components: Taro's components as DOM elements.
import { createElement } from "react";

const as = (tag) => ({ onClick, children, ...props }) => createElement(tag, { ...props, onClick }, children);
export const View = as("div");
export const Text = as("span");
export const Button = as("button");
