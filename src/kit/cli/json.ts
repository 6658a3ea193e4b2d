import { readFile } from 'node:fs/promises';
import { invalid } from '../../shared/errors.js';

/** Reads a JSON file for a command; a bad one names the file (and, for JSON syntax, the position). */
export async function jsonFile(path: string, flag: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw invalid(`cannot read ${path}: ${(err as Error).message}`, { field: flag });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid(`${path} is not JSON: ${(err as Error).message}`, { file: path });
  }
}

/** A JSON argument: inline JSON (starting with `{` or `[`), or a file path (`@file` or plain). */
export async function jsonArg(value: string, flag: string): Promise<unknown> {
  const text = value.trim();
  if (!text.startsWith('{') && !text.startsWith('['))
    return jsonFile(value.startsWith('@') ? value.slice(1) : value, flag);
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw invalid(`${flag} is not JSON: ${(err as Error).message}`, { field: flag });
  }
}
