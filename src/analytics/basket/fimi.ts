import { invalid } from '../../shared/errors.js';
import { TransactionDbBuilder, type TransactionDb } from './transactionDb.js';

/**
 * FIMI basket files (the FIMI'03 repository format): one basket per line, item ids as non-negative
 * integers separated by spaces (tabs and a trailing space allowed, CRLF tolerated). Blank lines carry
 * no basket and are skipped; an id repeated within a line counts once. Parsing only: reading a file
 * (and gunzipping it) is src/modules/basket/fimiFile.ts.
 */

const MAX_ID = 2 ** 31 - 1;

/** Incremental byte parser; feed chunks with {@link push}, then call {@link end}. */
export class FimiParser {
  private readonly builder = new TransactionDbBuilder();
  private value = 0;
  private inNumber = false;
  private line = 1;
  private blankLines = 0;
  private lineHasItems = false;

  constructor(private readonly file: string) {}

  /** Parses one chunk of bytes. */
  push(chunk: Uint8Array): void {
    const builder = this.builder;
    let value = this.value;
    let inNumber = this.inNumber;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b >= 48 && b <= 57) {
        value = value * 10 + (b - 48);
        if (value > MAX_ID) {
          throw invalid(`item id exceeds ${MAX_ID}`, { file: this.file, line: this.line, field: 'item id' });
        }
        inNumber = true;
      } else if (b === 32 || b === 9 || b === 13) {
        if (inNumber) {
          builder.addId(value);
          this.lineHasItems = true;
          value = 0;
          inNumber = false;
        }
      } else if (b === 10) {
        if (inNumber) {
          builder.addId(value);
          this.lineHasItems = true;
          value = 0;
          inNumber = false;
        }
        this.endLine();
      } else {
        let end = i;
        while (end < chunk.length && end - i < 40 && ![32, 9, 10, 13].includes(chunk[end]!)) end++;
        const token = (inNumber ? String(value) : '') + Buffer.from(chunk.subarray(i, end)).toString('utf8');
        throw invalid(`expected a non-negative integer item id, got ${JSON.stringify(token)}`, {
          file: this.file,
          line: this.line,
          field: 'item id',
        });
      }
    }
    this.value = value;
    this.inNumber = inNumber;
  }

  /** Finishes parsing; fails on a file without any basket. */
  end(): { db: TransactionDb; lines: number; blankLines: number } {
    if (this.inNumber) {
      this.builder.addId(this.value);
      this.lineHasItems = true;
      this.inNumber = false;
    }
    if (this.lineHasItems) this.endLine();
    const db = this.builder.build();
    if (db.transactionCount === 0) {
      throw invalid('no baskets found: expected one basket per line, space-separated integer item ids', {
        file: this.file,
        line: 1,
      });
    }
    return { db, lines: this.line - 1, blankLines: this.blankLines };
  }

  private endLine(): void {
    if (this.lineHasItems) this.builder.endBasket();
    else this.blankLines++;
    this.lineHasItems = false;
    this.line++;
  }
}
