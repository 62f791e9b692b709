import { ortExecutor } from '@zipit/runtime-ort';

/** The executor every command runs its passes on. */
export const executor = ortExecutor;
