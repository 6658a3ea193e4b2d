import { join } from 'node:path';
import { REPO_ROOT } from './bundle.js';

/** The UCI Online Retail export shipped in data/ (the same bytes as the shared data's copy). */
export const ONLINE_RETAIL = join(REPO_ROOT, 'data/online_retail.csv.gz');

/** What importing it must report, whichever way it is parsed (docs/import-formats.md#online-retail). */
export const ONLINE_RETAIL_REPORT = {
  rows: 541909,
  inserted: 19959, // 18,532 customer orders + 1,427 guest orders
  rejected: 0,
  // Invoice lines that repeat an earlier line of their invoice exactly: left out.
  duplicates: 5226,
  repeatedRows: 5226,
  guestOrders: 1427,
  refunds: { inserted: 3654, updated: 0, unchanged: 0 },
  skipped: {
    'UnitPrice <= 0': 1179,
    'Quantity <= 0 on a sales invoice': 1336,
    'guest cancellation (C… without CustomerID)': 383,
    'bad-debt adjustment invoice (A…)': 3,
  },
};
