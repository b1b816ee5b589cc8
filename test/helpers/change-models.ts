/** Models shared by the change-stream tests and the worker they run as a child process. */
import { Type } from 'typebox';
import { defineModel } from '../../src/index.js';

export const Job = defineModel('ChJob', { n: Type.Integer({ default: 0 }) }, { changes: true, shards: 4 });
