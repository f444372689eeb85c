import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { ITEM, itemKey, SLOT, VERSION, type TableLayout } from './layout.js';

/** A conditional UpdateItem, alone or as one action of a TransactWriteItems. */
export interface ConditionalUpdate {
  TableName: string;
  Key: Record<string, AttributeValue>;
  ConditionExpression: string;
  UpdateExpression: string;
  ExpressionAttributeNames: Record<string, string>;
  ExpressionAttributeValues?: Record<string, AttributeValue>;
}


/**
 * Collects placeholders as they are used (DynamoDB rejects unused ones) and builds the
 * condition and update clauses of one conditional update.
 */
export class Expression {
  private readonly names: Record<string, string> = {};
  private readonly values: Record<string, AttributeValue> = {};
  private readonly slots = new Map<string, string>();
  private readonly conditions: string[] = [];
  private readonly sets: string[] = [];
  private readonly removes: string[] = [];

  constructor(private readonly layout: TableLayout) {}

  /** `#k`: the partition key attribute. */
  get partitionKey(): string {
    return this.name('#k', this.layout.partitionKey);
  }

  /** `#x`: the TTL attribute. */
  get ttl(): string {
    return this.name('#x', this.layout.ttlAttribute);
  }

  /** A placeholder for one of the item's own attributes. */
  item(field: keyof typeof ITEM): string {
    return this.name(`#${ITEM[field]}`, ITEM[field]);
  }

  /** A placeholder for one of an entity's version attributes. */
  version(field: keyof typeof VERSION): string {
    return this.name(`#${VERSION[field]}`, VERSION[field]);
  }

  /** A placeholder for a slot attribute (`#s0`, `#s1`, …), one per distinct slot name. */
  slot(name: string): string {
    let placeholder = this.slots.get(name);
    if (placeholder === undefined) {
      placeholder = this.name(`#s${this.slots.size}`, name);
      this.slots.set(name, placeholder);
    }
    return placeholder;
  }

  /** The path of a field inside a slot: `#s0.#e`. */
  field(slot: string, field: keyof typeof SLOT): string {
    return `${slot}.${this.name(`#${SLOT[field]}`, SLOT[field])}`;
  }

  /** A placeholder for a value; a name reused within one expression must mean the same value. */
  value(name: string, value: AttributeValue): string {
    const placeholder = `:${name}`;
    const taken = this.values[placeholder];
    if (taken !== undefined && JSON.stringify(taken) !== JSON.stringify(value)) {
      throw new Error(`expression value ${placeholder} used for two values`);
    }
    this.values[placeholder] = value;
    return placeholder;
  }

  /** ANDs a clause into the condition. */
  when(clause: string): this {
    this.conditions.push(clause);
    return this;
  }

  /** Adds `path = value` to the SET clause. */
  set(path: string, value: string): this {
    this.sets.push(`${path} = ${value}`);
    return this;
  }

  /** Adds a path to the REMOVE clause. */
  remove(path: string): this {
    this.removes.push(path);
    return this;
  }

  /** The finished update of `key`'s item. */
  build(key: string): ConditionalUpdate {
    const update = [
      ...(this.sets.length > 0 ? [`SET ${this.sets.join(', ')}`] : []),
      ...(this.removes.length > 0 ? [`REMOVE ${this.removes.join(', ')}`] : []),
    ].join(' ');
    const built: ConditionalUpdate = {
      TableName: this.layout.tableName,
      Key: itemKey(this.layout, key),
      ConditionExpression: this.conditions.join(' AND '),
      UpdateExpression: update,
      ExpressionAttributeNames: this.names,
    };
    if (Object.keys(this.values).length > 0) built.ExpressionAttributeValues = this.values;
    return built;
  }

  private name(placeholder: string, name: string): string {
    this.names[placeholder] = name;
    return placeholder;
  }
}

/** TTL value for an expiry: epoch seconds, rounded up so TTL never deletes before `expiresAt`. */
export function ttlSeconds(expiresAt: number): number {
  return Math.ceil(expiresAt / 1000);
}
