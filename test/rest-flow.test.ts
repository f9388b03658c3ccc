import { describe } from 'vitest';
import { restSeedFlows } from './flows/rest-seed.js';

describe('the seed flow over REST, with curl and an EventSource', () => restSeedFlows());
