import { describe, expect, it } from 'vitest';
import { asPut, keyOf, mapsAsStrings, quantile, rekeyed, withoutCondition, type RecordedRequest } from '../lib/request-shapes.js';

// bench/dynamodb-shapes.ts replays recorded requests with fresh keys, and variants of them; the
// variants must be valid requests (DynamoDB refuses unused placeholders) that write the same item.
const claim: RecordedRequest = {
  command: 'UpdateItem',
  input: {
    TableName: 't',
    Key: { id: { S: 'bench:eventId:k1' } },
    ConditionExpression: 'attribute_not_exists(#k)',
    UpdateExpression: 'SET #fence = :t, #x = :ttl, #s0 = :slot',
    ExpressionAttributeNames: { '#fence': 'fence', '#s0': '@u', '#k': 'id', '#x': 'ttl' },
    ExpressionAttributeValues: { ':t': { N: '5000' }, ':ttl': { N: '9' }, ':slot': { M: { s: { S: 'p' }, o: { S: 'bench:eventId:k1' } } } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  },
};
const completion: RecordedRequest = {
  command: 'UpdateItem',
  input: {
    TableName: 't',
    Key: { id: { S: 'bench:eventId:k1' } },
    ConditionExpression: '#fence = :f',
    UpdateExpression: 'SET #fence = :next, #s0 = :slot',
    ExpressionAttributeNames: { '#fence': 'fence', '#s0': '@u' },
    ExpressionAttributeValues: { ':f': { N: '5000' }, ':next': { N: '5001' }, ':slot': { M: { s: { S: 'c' } } } },
    ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
  },
};

describe('request shapes', () => {
  it('finds the key and replaces it wherever it appears, leaving the recording as it was', () => {
    expect(keyOf(claim, 'id')).toBe('bench:eventId:k1');
    const fresh = rekeyed(claim.input, 'bench:eventId:k1', 'k2') as typeof claim.input & { Key: unknown; ExpressionAttributeValues: Record<string, unknown> };
    expect(fresh.Key).toEqual({ id: { S: 'k2' } });
    expect(fresh.ExpressionAttributeValues[':slot']).toEqual({ M: { s: { S: 'p' }, o: { S: 'k2' } } });
    expect(keyOf(claim, 'id')).toBe('bench:eventId:k1');
    expect(() => keyOf(claim, 'pk')).toThrow(/no string pk/);
  });

  it('writes a blind claim as the PutItem of the same item, keeping only the placeholders its condition uses', () => {
    expect(asPut(claim)).toEqual({
      command: 'PutItem',
      input: {
        TableName: 't',
        Item: { id: { S: 'bench:eventId:k1' }, fence: { N: '5000' }, ttl: { N: '9' }, '@u': { M: { s: { S: 'p' }, o: { S: 'bench:eventId:k1' } } } },
        ConditionExpression: 'attribute_not_exists(#k)',
        ExpressionAttributeNames: { '#k': 'id' },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      },
    });
    // An update that is not plain assignments has no equivalent put.
    const incremented = { command: 'UpdateItem', input: { ...claim.input, UpdateExpression: 'SET #fence = #fence + :t' } } as const;
    expect(() => asPut(incremented)).toThrow(/not a plain assignment/);
    expect(() => asPut(asPut(claim))).toThrow(/not an UpdateItem/);
  });

  it('drops a completion\'s condition with the placeholders only it used', () => {
    expect(withoutCondition(completion).input).toEqual({
      TableName: 't',
      Key: { id: { S: 'bench:eventId:k1' } },
      UpdateExpression: 'SET #fence = :next, #s0 = :slot',
      ExpressionAttributeNames: { '#fence': 'fence', '#s0': '@u' },
      ExpressionAttributeValues: { ':next': { N: '5001' }, ':slot': { M: { s: { S: 'c' } } } },
    });
  });

  it('sends map values as one string of their JSON, and nothing else changes', () => {
    const { input } = mapsAsStrings(completion);
    expect((input['ExpressionAttributeValues'] as Record<string, unknown>)[':slot']).toEqual({ S: '{"s":{"S":"c"}}' });
    expect((input['ExpressionAttributeValues'] as Record<string, unknown>)[':f']).toEqual({ N: '5000' });
    expect(input['ConditionExpression']).toBe('#fence = :f');
  });

  it('takes nearest-rank quantiles', () => {
    expect(quantile([4, 1, 3, 2], 0.5)).toBe(2);
    expect(quantile([4, 1, 3, 2], 0.75)).toBe(3);
    expect(quantile([], 0.5)).toBeNaN();
  });
});
