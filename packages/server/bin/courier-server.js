#!/usr/bin/env node
// `courier-server`: starts the compiled command (packages/server/dist), rebuilt first if its sources changed.
import { launch } from '../../../scripts/command-bundle.js';

await launch('courier-server');
