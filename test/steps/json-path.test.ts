// The JSONPath subset of json_path: every accepted form, every refusal with its offset, and selection.
import { describe, expect, it } from 'vitest';
import { parseJsonPath, selectJsonPath } from '../../src/steps/json-path.js';

const DOC = { data: { error_rate: 0.002, 'p95-ms': 412, list: [10, 20, 30], nested: [{ v: 1 }, { v: 2 }] }, 'a b': { c: 'x' }, ünï: 5 };

describe('parseJsonPath and selectJsonPath', () => {
  it.each([
    ['$', DOC],
    ['$.data.error_rate', 0.002],
    ["$.data['p95-ms']", 412],
    ['$["data"]["p95-ms"]', 412],
    ['$.data.list[0]', 10],
    ['$.data.list[-1]', 30],
    ['$.data.nested[1].v', 2],
    ["$['a b'].c", 'x'],
    ["$['a\\'b']", undefined],
    ['$.ünï', 5],
    ['$.data.missing', undefined],
    ['$.data.list[3]', undefined],
    ['$.data.list[-4]', undefined],
    ['$.data.error_rate.deeper', undefined],
    ['$.data.list.length', undefined],
    ['$.data[0]', undefined],
  ])('%s selects %j', (path, value) => {
    const parsed = parseJsonPath(path);
    expect(parsed.ok).toBe(true);
    expect(parsed.ok && selectJsonPath(DOC, parsed.segments)).toEqual(value);
  });

  it('does not read inherited properties', () => {
    const parsed = parseJsonPath('$.constructor');
    expect(parsed.ok && selectJsonPath({}, parsed.segments)).toBeUndefined();
  });

  it.each([
    ['data.x', 0, /starts with '\$'/],
    ['$..x', 1, /descendants/],
    ['$.*', 2, /wildcards/],
    ['$[*]', 2, /not supported/],
    ['$[?(@.x > 1)]', 2, /not supported/],
    ['$[0:2]', 2, /not supported/],
    ['$.1abc', 2, /must start with a letter/],
    ['$[abc]', 2, /quoted name/],
    ["$['abc", 2, /unclosed/],
    ["$['abc' ]", 7, /expected '\]'/],
    ["$['a\\q']", 4, /unknown escape/],
    ['$ .a', 1, /unexpected " "/],
    ['$[01]', 2, /quoted name/],
  ])('%s is refused at offset %i', (path, offset, message) => {
    const parsed = parseJsonPath(path);
    expect(parsed.ok).toBe(false);
    expect(!parsed.ok && parsed.offset).toBe(offset);
    expect(!parsed.ok && parsed.message).toMatch(message);
  });
});
