#!/usr/bin/env node
// `courier`: starts the compiled command (packages/cli/dist), rebuilt first if its sources changed.
import { launch } from '../../../scripts/command-bundle.js';

await launch('courier');
