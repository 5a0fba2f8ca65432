/**
 * Pure: catalog -> the service's metadata document, as CSDL XML (the default) and CSDL JSON. One schema,
 * one entity container; an entity type per exposed object with its key and properties and their facets;
 * comments as Core.Description; read-only objects annotated as not insertable, updatable or deletable;
 * computed columns as Core.Computed; the version column as Core.OptimisticConcurrency.
 * Both documents are cached per catalog snapshot (and per visible entity set list).
 */
import type { Catalog, Column, EntitySet } from '../catalog/types.js';
import { urlSegment } from './json.js';

const CORE = 'https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Core.V1.xml';
/** The protocol versions the service speaks (Protocol 12.2.1: a 4.01 service SHOULD say so). */
const ODATA_VERSIONS = '4.0 4.01';
const VERSIONS_XML = `<Annotation Term="Core.ODataVersions" String="${ODATA_VERSIONS}"/>`;
const CAPABILITIES = 'https://oasis-tcs.github.io/odata-vocabularies/vocabularies/Org.OData.Capabilities.V1.xml';

export interface CsdlOptions {
  /** MaxLength declared for strings of unknown length (Heroku declares 32000 so Salesforce makes LongTextArea). */
  readonly textMaxLength?: number;
}

/**
 * Text for an XML attribute value or element. Tab, line feed and carriage return become character
 * references (a parser would read them raw as spaces, XML 1.0 3.3.3); the other control characters
 * cannot appear in XML 1.0 at all and are dropped.
 */
function xml(s: string): string {
  return s
    .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
    .replace(/\t/g, '&#9;').replace(/\n/g, '&#10;').replace(/\r/g, '&#13;')
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g, '');
}

function maxLength(col: Column, opts: CsdlOptions): number | undefined {
  if (col.edm !== 'Edm.String') return undefined;
  if (col.maxLength !== undefined) return col.maxLength;
  return col.pg === 'text' ? opts.textMaxLength : undefined;
}

function propertyXml(col: Column, opts: CsdlOptions): string {
  const attrs = [`Name="${xml(col.name)}"`, `Type="${col.edm}"`];
  if (!col.nullable) attrs.push('Nullable="false"');
  const ml = maxLength(col, opts);
  if (ml !== undefined) attrs.push(`MaxLength="${ml}"`);
  if (col.edm === 'Edm.Decimal') {
    if (col.precision !== undefined) attrs.push(`Precision="${col.precision}"`);
    attrs.push(`Scale="${col.scale ?? 'variable'}"`);
  } else if (col.precision !== undefined) attrs.push(`Precision="${col.precision}"`);
  const inner: string[] = [];
  if (col.comment) inner.push(`<Annotation Term="Core.Description" String="${xml(col.comment)}"/>`);
  if (col.computed) inner.push('<Annotation Term="Core.Computed" Bool="true"/>');
  return inner.length ? `<Property ${attrs.join(' ')}>${inner.join('')}</Property>` : `<Property ${attrs.join(' ')}/>`;
}

function restrictionsXml(set: EntitySet): string {
  const out: string[] = [];
  if (set.readOnly) {
    out.push(
      '<Annotation Term="Capabilities.InsertRestrictions"><Record><PropertyValue Property="Insertable" Bool="false"/></Record></Annotation>',
      '<Annotation Term="Capabilities.UpdateRestrictions"><Record><PropertyValue Property="Updatable" Bool="false"/></Record></Annotation>',
      '<Annotation Term="Capabilities.DeleteRestrictions"><Record><PropertyValue Property="Deletable" Bool="false"/></Record></Annotation>',
    );
  } else if (set.versionColumn) {
    out.push(`<Annotation Term="Core.OptimisticConcurrency"><Collection><PropertyPath>${xml(set.versionColumn.name)}</PropertyPath></Collection></Annotation>`);
  }
  return out.join('');
}

export function csdlXml(catalog: Catalog, sets: readonly EntitySet[], opts: CsdlOptions = {}): string {
  const ns = catalog.namespace;
  const types = sets.map((s) => {
    const key = `<Key>${s.key.map((k) => `<PropertyRef Name="${xml(k.name)}"/>`).join('')}</Key>`;
    const desc = s.comment ? `<Annotation Term="Core.Description" String="${xml(s.comment)}"/>` : '';
    return `<EntityType Name="${xml(s.typeName)}">${key}${s.columns.map((c) => propertyXml(c, opts)).join('')}${desc}</EntityType>`;
  });
  const entitySets = sets.map((s) => {
    const inner = restrictionsXml(s);
    const open = `<EntitySet Name="${xml(s.name)}" EntityType="${xml(`${ns}.${s.typeName}`)}"`;
    return inner ? `${open}>${inner}</EntitySet>` : `${open}/>`;
  });
  return (
    '<?xml version="1.0" encoding="utf-8"?>' +
    '<edmx:Edmx xmlns:edmx="http://docs.oasis-open.org/odata/ns/edmx" Version="4.0">' +
    `<edmx:Reference Uri="${CORE}"><edmx:Include Namespace="Org.OData.Core.V1" Alias="Core"/></edmx:Reference>` +
    `<edmx:Reference Uri="${CAPABILITIES}"><edmx:Include Namespace="Org.OData.Capabilities.V1" Alias="Capabilities"/></edmx:Reference>` +
    '<edmx:DataServices>' +
    `<Schema xmlns="http://docs.oasis-open.org/odata/ns/edm" Namespace="${xml(ns)}">` +
    types.join('') +
    `<EntityContainer Name="${xml(catalog.containerName)}">${entitySets.join('')}${VERSIONS_XML}</EntityContainer>` +
    '</Schema></edmx:DataServices></edmx:Edmx>'
  );
}

function propertyJson(col: Column, opts: CsdlOptions): Record<string, unknown> {
  const p: Record<string, unknown> = {};
  if (col.edm !== 'Edm.String') p['$Type'] = col.edm;
  if (col.nullable) p['$Nullable'] = true;
  const ml = maxLength(col, opts);
  if (ml !== undefined) p['$MaxLength'] = ml;
  if (col.edm === 'Edm.Decimal') {
    if (col.precision !== undefined) p['$Precision'] = col.precision;
    p['$Scale'] = col.scale ?? 'variable';
  } else if (col.precision !== undefined) p['$Precision'] = col.precision;
  if (col.comment) p['@Core.Description'] = col.comment;
  if (col.computed) p['@Core.Computed'] = true;
  return p;
}

export function csdlJson(catalog: Catalog, sets: readonly EntitySet[], opts: CsdlOptions = {}): string {
  const ns = catalog.namespace;
  const schema: Record<string, unknown> = {};
  for (const s of sets) {
    const t: Record<string, unknown> = { $Kind: 'EntityType', $Key: s.key.map((k) => k.name) };
    for (const c of s.columns) t[c.name] = propertyJson(c, opts);
    if (s.comment) t['@Core.Description'] = s.comment;
    schema[s.typeName] = t;
  }
  const container: Record<string, unknown> = { $Kind: 'EntityContainer' };
  for (const s of sets) {
    const es: Record<string, unknown> = { $Collection: true, $Type: `${ns}.${s.typeName}` };
    if (s.readOnly) {
      es['@Capabilities.InsertRestrictions'] = { Insertable: false };
      es['@Capabilities.UpdateRestrictions'] = { Updatable: false };
      es['@Capabilities.DeleteRestrictions'] = { Deletable: false };
    } else if (s.versionColumn) es['@Core.OptimisticConcurrency'] = [s.versionColumn.name];
    container[s.name] = es;
  }
  container['@Core.ODataVersions'] = ODATA_VERSIONS;
  schema[catalog.containerName] = container;
  const doc = {
    $Version: '4.0',
    $EntityContainer: `${ns}.${catalog.containerName}`,
    $Reference: {
      [CORE]: { $Include: [{ $Namespace: 'Org.OData.Core.V1', $Alias: 'Core' }] },
      [CAPABILITIES]: { $Include: [{ $Namespace: 'Org.OData.Capabilities.V1', $Alias: 'Capabilities' }] },
    },
    [ns]: schema,
  };
  return JSON.stringify(doc);
}

/** The service document; without a context URL under metadata=none (JSON Format 4.6.1). */
export function serviceDocument(contextUrl: string | undefined, sets: readonly EntitySet[]): string {
  return JSON.stringify({
    ...(contextUrl !== undefined ? { '@odata.context': contextUrl } : {}),
    value: sets.map((s) => ({ name: s.name, kind: 'EntitySet', url: urlSegment(s.name) })),
  });
}
