// Limits on the shape of a query, checked before any resolver runs (over HTTP and WebSocket):
// depth, aliases, directives, tokens (the parser), and cost, where the page size of a
// connection multiplies the cost of everything inside it. (graphql-armor's rules are CommonJS
// and load a second copy of graphql next to our ESM one, which graphql refuses to mix; these
// rules do the same checks.)
import {
  getNamedType,
  getNullableType,
  GraphQLError,
  isInterfaceType,
  isIntrospectionType,
  isListType,
  isObjectType,
  Kind,
  type GraphQLCompositeType,
  type SelectionSetNode,
  type ASTVisitor,
  type FragmentDefinitionNode,
  type ValidationContext,
  type ValidationRule,
  type ValueNode,
} from 'graphql';
import { limits } from '../domain/limits.js';
import { defaultReactionUsers, maxReactionEmojis } from '../domain/reactions.js';

export const queryLimits = Object.freeze({
  maxDepth: 12,
  maxAliases: 20,
  maxDirectives: 10,
  maxTokens: 5_000,
  maxCost: 25_000,
  /** Items assumed in a list that has no page size (a group's members). */
  listEstimate: 50,
});

/** Lists whose length has a known bound, priced at that bound rather than `listEstimate`. */
const boundedLists: Readonly<Record<string, number>> = {
  'Message.attachments': limits.maxAttachmentsPerMessage,
  'Query.nodes': limits.maxNodesPerCall,
  'Message.reactions': maxReactionEmojis,
  // Without `first` (with it, priced at the size asked for).
  'ReactionGroup.users': defaultReactionUsers,
};

/** Lists with one entry per item of an argument: priced at its length when written literally. */
const listsSizedByArgument: Readonly<Record<string, string>> = { 'Query.nodes': 'ids' };

function literalListLength(
  coordinate: string,
  args: readonly { name: { value: string }; value: ValueNode }[],
): number | undefined {
  const name = listsSizedByArgument[coordinate];
  const value = name ? args.find((a) => a.name.value === name)?.value : undefined;
  return value?.kind === Kind.LIST ? value.values.length : undefined;
}

function pageSize(args: readonly { name: { value: string }; value: ValueNode }[]): number | null {
  let size: number | null = null;
  for (const arg of args) {
    if (arg.name.value !== 'first' && arg.name.value !== 'last') continue;
    // A variable is priced at the largest page it may ask for.
    size = arg.value.kind === Kind.INT ? Number(arg.value.value) : limits.maxPageSize;
  }
  return size;
}

/** `__schema` and `__type`: allowed or refused as a whole (GRAPHQL_INTROSPECTION). */
const isIntrospection = (field: string) => field === '__schema' || field === '__type';

/** Rejects operations whose estimated cost (fields × page sizes) is over the limit. */
export const costLimitRule =
  (maxCost: number): ValidationRule =>
  (context: ValidationContext) => {
    // A fragment costs the same wherever it is spread: priced once, so a query that spreads
    // fragments within fragments is checked in linear time, not exponential.
    const fragmentCost = new Map<string, number>();
    const costOf = (
      set: SelectionSetNode,
      parent: GraphQLCompositeType | null | undefined,
      seen: Set<string>,
    ): number => {
      let total = 0;
      for (const selection of set.selections) {
        if (selection.kind === Kind.FIELD && isIntrospection(selection.name.value)) {
          total += 1; // bounded by the schema's size (and aliases, counted apart)
          continue;
        }
        if (selection.kind === Kind.FIELD) {
          const def =
            parent && (isObjectType(parent) || isInterfaceType(parent))
              ? parent.getFields()[selection.name.value]
              : undefined;
          const type = def ? getNullableType(def.type) : undefined;
          let multiplier = 1;
          const size = pageSize(selection.arguments ?? []);
          if (size !== null) multiplier = Math.max(size, 1);
          else if (type && isListType(type) && selection.name.value !== 'edges') {
            const coordinate = `${parent?.name}.${selection.name.value}`;
            multiplier =
              literalListLength(coordinate, selection.arguments ?? []) ??
              boundedLists[coordinate] ??
              queryLimits.listEstimate;
          } else if (
            def?.args.some((a) => a.name === 'first') &&
            selection.name.value !== 'edges'
          ) {
            multiplier = limits.defaultPageSize;
          }
          const inner = selection.selectionSet
            ? costOf(
                selection.selectionSet,
                def ? (getNamedType(def.type) as GraphQLCompositeType) : undefined,
                seen,
              )
            : 0;
          total += 1 + multiplier * inner;
        } else if (selection.kind === Kind.INLINE_FRAGMENT) {
          const typeName = selection.typeCondition?.name.value;
          const type = typeName
            ? (context.getSchema().getType(typeName) as GraphQLCompositeType)
            : parent;
          total += costOf(selection.selectionSet, type, seen);
        } else {
          const name = selection.name.value;
          const fragment = context.getFragment(name);
          if (!fragment || seen.has(name)) continue;
          let cost = fragmentCost.get(name);
          if (cost === undefined) {
            const type = context.getSchema().getType(fragment.typeCondition.name.value);
            cost = costOf(
              fragment.selectionSet,
              type as GraphQLCompositeType,
              new Set([...seen, name]),
            );
            fragmentCost.set(name, cost);
          }
          total += cost;
        }
      }
      return total;
    };
    return {
      OperationDefinition(operation) {
        const schema = context.getSchema();
        const root =
          operation.operation === 'query'
            ? schema.getQueryType()
            : operation.operation === 'mutation'
              ? schema.getMutationType()
              : schema.getSubscriptionType();
        const cost = costOf(operation.selectionSet, root, new Set());
        if (cost > maxCost) {
          context.reportError(
            new GraphQLError(
              `Query is too expensive: estimated cost ${cost} is over ${maxCost} (page sizes multiply the fields inside them). Ask for smaller pages or fewer fields.`,
              { nodes: [operation] },
            ),
          );
        }
      },
    };
  };

interface ShapeCount {
  depth: number;
  aliases: number;
  directives: number;
}

/**
 * Depth, aliases and directives of an operation, following fragments; each fragment is measured
 * once (`memo`), however often it is spread.
 */
function measure(
  set: SelectionSetNode,
  fragment: (name: string) => FragmentDefinitionNode | null | undefined,
  memo: Map<string, ShapeCount>,
  seen: ReadonlySet<string> = new Set(),
): ShapeCount {
  const total: ShapeCount = { depth: 0, aliases: 0, directives: 0 };
  for (const selection of set.selections) {
    total.directives += selection.directives?.length ?? 0;
    let inner: ShapeCount | null = null;
    let levels = 0;
    if (selection.kind === Kind.FIELD) {
      if (selection.alias) total.aliases += 1;
      levels = 1;
      if (selection.selectionSet) inner = measure(selection.selectionSet, fragment, memo, seen);
      // Introspection nests as deep as the schema's types (GraphiQL's query is 13 levels), which
      // bounds it: its aliases and directives count, its depth does not.
      if (inner && isIntrospection(selection.name.value)) inner = { ...inner, depth: 0 };
    } else if (selection.kind === Kind.INLINE_FRAGMENT) {
      inner = measure(selection.selectionSet, fragment, memo, seen);
    } else {
      const name = selection.name.value;
      const definition = fragment(name);
      if (definition && !seen.has(name)) {
        total.directives += definition.directives?.length ?? 0;
        inner = memo.get(name) ?? null;
        if (!inner) {
          inner = measure(definition.selectionSet, fragment, memo, new Set([...seen, name]));
          memo.set(name, inner);
        }
      }
    }
    if (inner) {
      total.aliases += inner.aliases;
      total.directives += inner.directives;
    }
    total.depth = Math.max(total.depth, levels + (inner?.depth ?? 0));
  }
  return total;
}

const shapeRule: ValidationRule = (context: ValidationContext): ASTVisitor => ({
  OperationDefinition(operation) {
    const shape = measure(operation.selectionSet, (name) => context.getFragment(name), new Map());
    shape.directives += operation.directives?.length ?? 0;
    const report = (what: string, value: number, max: number) =>
      context.reportError(
        new GraphQLError(`Query ${what} is ${value}, over the limit of ${max}.`, {
          nodes: [operation],
        }),
      );
    if (shape.depth > queryLimits.maxDepth) report('depth', shape.depth, queryLimits.maxDepth);
    if (shape.aliases > queryLimits.maxAliases) {
      report('alias count', shape.aliases, queryLimits.maxAliases);
    }
    if (shape.directives > queryLimits.maxDirectives) {
      report('directive count', shape.directives, queryLimits.maxDirectives);
    }
  },
});

/** Validation rules added to GraphQL's own, for every operation on every transport. */
export function limitRules(): ValidationRule[] {
  return [shapeRule, costLimitRule(queryLimits.maxCost)];
}

/**
 * Introspection off (production, unless GRAPHQL_INTROSPECTION=true): graphql-js's own rule,
 * reworded to name the setting that turns it on (Apollo's names its constructor option).
 */
export function introspectionRules(allowed: boolean): ValidationRule[] {
  if (allowed) return [];
  const rule: ValidationRule = (context) => ({
    Field(node) {
      const type = getNamedType(context.getType());
      if (type && isIntrospectionType(type)) {
        context.reportError(
          new GraphQLError(
            `Introspection is off on this server (as in production by default), so "${node.name.value}" cannot be queried: set GRAPHQL_INTROSPECTION=true to turn it on.`,
            { nodes: node },
          ),
        );
      }
    },
  });
  return [rule];
}
