// Validate Kubernetes manifests against the Kubernetes API's own types,
// offline (tests/k8s.sh):
//  - kubernetes-models: validators generated from the Kubernetes OpenAPI
//    schema (types, formats, required fields, enums);
//  - @kubernetes/client-node's models (generated from the same schema)
//    give each type's fields: a field the API does not know is an error,
//    as `kubectl apply --validate=strict` makes it.
// Usage: node validate.mjs FILE...   Exit 1 on the first invalid object.
import { readFileSync } from 'node:fs';
import { parseAllDocuments } from 'yaml';
import * as k8s from '@kubernetes/client-node';
import { DaemonSet } from 'kubernetes-models/apps/v1';

const models = { 'apps/v1/DaemonSet': [DaemonSet, 'V1DaemonSet'] };

// Fields OBJ has that TYPE (a client-node model name) does not.
function unknownFields(obj, type, path, out) {
	if (obj === null || obj === undefined) return out;
	let m = /^Array<(.+)>$/.exec(type);
	if (m) {
		if (Array.isArray(obj)) obj.forEach((v, i) => unknownFields(v, m[1], `${path}[${i}]`, out));
		return out;
	}
	m = /^\{ \[key: string\]: (.+); \}$/.exec(type);
	if (m) {
		for (const [key, v] of Object.entries(obj)) unknownFields(v, m[1], `${path}.${key}`, out);
		return out;
	}
	const cls = k8s[type];
	if (!cls || typeof cls.getAttributeTypeMap !== 'function' || typeof obj !== 'object') return out;
	const attrs = new Map(cls.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
	for (const [key, v] of Object.entries(obj)) {
		if (!attrs.has(key)) out.push(`${path}.${key}: not a field of ${type}`);
		else unknownFields(v, attrs.get(key), `${path}.${key}`, out);
	}
	return out;
}

let bad = 0;
for (const file of process.argv.slice(2)) {
	for (const doc of parseAllDocuments(readFileSync(file, 'utf8'))) {
		if (doc.errors.length) {
			console.log(`${file}: YAML: ${doc.errors[0].message}`);
			bad++;
			continue;
		}
		const obj = doc.toJS();
		if (!obj) continue;
		const key = `${obj.apiVersion}/${obj.kind}`;
		const model = models[key];
		if (!model) {
			console.log(`${file}: ${key}: no schema known here`);
			bad++;
			continue;
		}
		const errs = [];
		try {
			new model[0](obj).validate();
		} catch (e) {
			errs.push(String(e.message || e).split('\n').slice(0, 5).join('; '));
		}
		unknownFields(obj, model[1], key, errs);
		if (errs.length) {
			console.log(`${file}: ${key} ${obj.metadata?.name}: ${errs.join('; ')}`);
			bad++;
		} else {
			console.log(`${file}: ${key} ${obj.metadata?.name}: valid`);
		}
	}
}
process.exit(bad ? 1 : 0);
