import { createRequire } from 'node:module';
import proto from '@temporalio/proto';
import { patchProtobufRoot } from '@temporalio/proto/lib/patch-protobuf-root.js';

// Workflow histories as the JSON Temporal's own tools read and write (proto3 JSON).
//
// Why not `historyToJSON` / `historyFromJSON` from @temporalio/common: in this
// install npm nests a separate protobufjs 8 under @temporalio/common and under
// @temporalio/proto (the root holds protobufjs 7 for @grpc/proto-loader), so
// common's protojson rejects proto's types ("type must be a Type"). Loading
// protojson from where @temporalio/proto resolves it gives the copy its types
// were built with.

export type History = proto.temporal.api.history.v1.IHistory;

interface ProtoJson {
  toJson(type: unknown, message: unknown): unknown;
  fromJson(type: unknown, json: unknown, options?: { ignoreUnknownFields?: boolean }): unknown;
}

const requireFromProto = createRequire(createRequire(import.meta.url).resolve('@temporalio/proto'));
const protojson = requireFromProto('protobufjs/ext/protojson') as ProtoJson;
const root = patchProtobufRoot(proto) as unknown as { lookupType(name: string): unknown };
const historyType = root.lookupType('temporal.api.history.v1.History');

export function historyToJson(history: History): string {
  return JSON.stringify(protojson.toJson(historyType, proto.temporal.api.history.v1.History.fromObject(history)), null, 2);
}

/** Tolerates fields a newer server may add. */
export function historyFromJson(json: unknown): History {
  return protojson.fromJson(historyType, json, { ignoreUnknownFields: true }) as History;
}
