import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isInterfaceType,
  isListType,
  isObjectType,
  Kind,
  TypeMetaFieldDef,
  TypeNameMetaFieldDef,
  type ArgumentNode,
  type FragmentDefinitionNode,
  type GraphQLField,
  type GraphQLNamedType,
  type GraphQLSchema,
  type OperationDefinitionNode,
  type SelectionSetNode,
  type ValidationRule,
} from 'graphql';
import type { Plugin } from 'graphql-yoga';

export interface CostLimits {
  /** The most a document may cost. */
  maxCost: number;
  /** The largest page a `first` argument may ask for (securityEvents: 1 to 100). */
  maxPage: number;
  /** How many items a list without a `first` above it is counted as (the sessions list). */
  listSize: number;
}

/**
 * What an operation costs: one per field resolved, a field inside a list once
 * per item the list can hold. A `first` argument sizes the lists beneath its
 * field: as written, at most `maxPage`; as a variable, `maxPage` (the document
 * is judged once, for any variables); left out, its default. Any other list
 * counts `listSize` items. So `securityEvents(first: 100)` with all its fields
 * costs what reading 100 events costs, and ten of them are refused whether
 * the 100 is written in or passed as `$n`. Introspection (`__schema`) is free:
 * INTROSPECTION decides whether it is answered at all.
 */
export function operationCost(
  schema: GraphQLSchema,
  operation: OperationDefinitionNode,
  fragmentNamed: (name: string) => FragmentDefinitionNode | undefined | null,
  limits: Pick<CostLimits, 'maxPage' | 'listSize'>,
): number {
  // Fragment costs by fragment and page size: a fragment spread twice at each of many levels is walked once per level.
  const fragments = new Map<string, number>();

  const fieldOf = (parent: GraphQLNamedType, name: string): GraphQLField<unknown, unknown> | undefined => {
    if (name === '__typename') return TypeNameMetaFieldDef;
    if (parent === schema.getQueryType() && name === '__type') return TypeMetaFieldDef;
    return isObjectType(parent) || isInterfaceType(parent) ? parent.getFields()[name] : undefined;
  };

  const pageSize = (field: GraphQLField<unknown, unknown>, args: readonly ArgumentNode[] | undefined): number | null => {
    const declared = field.args.find((arg) => arg.name === 'first');
    if (!declared) return null;
    const given = args?.find((arg) => arg.name.value === 'first')?.value;
    if (given === undefined) return typeof declared.defaultValue === 'number' ? declared.defaultValue : limits.maxPage;
    if (given.kind !== Kind.INT) return limits.maxPage;
    return Math.min(Math.max(Number(given.value), 1), limits.maxPage);
  };

  const selectionCost = (selectionSet: SelectionSetNode, parent: GraphQLNamedType, page: number | null): number => {
    let total = 0;
    for (const selection of selectionSet.selections) {
      if (selection.kind === Kind.FIELD) {
        if (selection.name.value === '__schema') continue;
        const field = fieldOf(parent, selection.name.value);
        // An unknown field: FieldsOnCorrectTypeRule refuses the document anyway.
        if (!field) continue;
        const inner = pageSize(field, selection.arguments) ?? page;
        const items = isListType(getNullableType(field.type)) ? (inner ?? limits.listSize) : 1;
        const below = selection.selectionSet ? selectionCost(selection.selectionSet, getNamedType(field.type), inner) : 0;
        total += 1 + items * below;
      } else if (selection.kind === Kind.INLINE_FRAGMENT) {
        const type = selection.typeCondition ? schema.getType(selection.typeCondition.name.value) : parent;
        if (type) total += selectionCost(selection.selectionSet, type, page);
      } else {
        total += fragmentCost(selection.name.value, page);
      }
    }
    return total;
  };

  const fragmentCost = (name: string, page: number | null): number => {
    const key = `${name}:${page ?? ''}`;
    const known = fragments.get(key);
    if (known !== undefined) return known;
    // A cycle counts nothing here: NoFragmentCyclesRule refuses it.
    fragments.set(key, 0);
    const fragment = fragmentNamed(name);
    const type = fragment ? schema.getType(fragment.typeCondition.name.value) : undefined;
    const cost = fragment && type ? selectionCost(fragment.selectionSet, type, page) : 0;
    fragments.set(key, cost);
    return cost;
  };

  const root = schema.getRootType(operation.operation);
  return root ? selectionCost(operation.selectionSet, root, null) : 0;
}

/** The validation rule: an operation that costs more than `limits.maxCost` is refused. */
export function costLimitRule(limits: CostLimits): ValidationRule {
  return (context) => ({
    OperationDefinition(operation) {
      const cost = operationCost(context.getSchema(), operation, (name) => context.getFragment(name), limits);
      if (cost > limits.maxCost) {
        context.reportError(new GraphQLError(`Query cost limit of ${limits.maxCost} exceeded, found ${cost}`, { nodes: [operation] }));
      }
    },
  });
}

/** Refuses, at validation (400 BAD_USER_INPUT), every operation that costs more than `limits.maxCost`. */
export function useCostLimit(limits: CostLimits): Plugin {
  return {
    onValidate({ addValidationRule }) {
      addValidationRule(costLimitRule(limits));
    },
  };
}
