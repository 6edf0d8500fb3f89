#!/usr/bin/env node
// `npx deligo …` runs the TypeScript sources directly: register tsx's loader, then hand over.
import { register } from 'tsx/esm/api';

register();
await import('../cli/main.ts');
