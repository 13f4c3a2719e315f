// The product version, replaced at bundle time by the cross-build (esbuild `define`).
declare const __KIOSK_VERSION__: string | undefined;

export const PRODUCT_VERSION: string = typeof __KIOSK_VERSION__ === 'string' ? __KIOSK_VERSION__ : '0.1.0-dev';
