declare module 'virtual:zipit-subsets' {
  /** The built-in subset generated at build time (see build/build.ts). */
  export const SUBSETS: {
    spec: string;
    dataset: 'mnist' | 'fashion';
    classes: number[];
    classNames: string[];
    mean: number;
    std: number;
    train: { file: string; count: number };
    test: { file: string; count: number };
  }[];
}

declare module 'virtual:zipit-report-assets' {
  export const REPORT_ASSETS: { vega: string; vegaLite: string; vegaEmbed: string };
}
