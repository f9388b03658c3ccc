import { describe } from 'vitest';
import { twoInstanceFlows } from './flows/two-instances.js';

describe('two server instances sharing MongoDB and Redis', () => twoInstanceFlows());
