# Harvests an Arkiv OAI-PMH endpoint with three independent clients from
# PyPI (sickle, oaipmh-scythe, pyoai) and prints, as JSON, for each
# (client, verb, metadataPrefix, selection): [distinct identifiers, headers
# seen, deleted headers]. The Rust test compares them with its own harvest.
# argv: endpoint, JSON list of [label, prefix, args] selections.
import json, sys
from sickle import Sickle
from oaipmh_scythe import Scythe
from oaipmh.client import Client
from oaipmh.metadata import MetadataRegistry, MetadataReader, oai_dc_reader

# pyoai 2.5 calls XPathEvaluator.evaluate, which lxml 5 removed (it is
# __call__ now): give pyoai an evaluator that still has it.
import types, lxml.etree as _etree, oaipmh.client, oaipmh.metadata
class _Evaluator:
    def __init__(self, *a, **k):
        self._e = _etree.XPathEvaluator(*a, **k)
    def evaluate(self, *a, **k):
        return self._e(*a, **k)
    __call__ = evaluate
_shim = types.SimpleNamespace(**{n: getattr(_etree, n) for n in dir(_etree) if not n.startswith("__")})
_shim.XPathEvaluator = _Evaluator
for _m in (oaipmh.client, oaipmh.metadata):
    if hasattr(_m, "etree"):
        _m.etree = _shim

endpoint = sys.argv[1]
selections = json.loads(sys.argv[2])
out = {}

def tally(key, headers):
    ids = [(h[0], h[1]) for h in headers]
    out[key] = [len({i for i, _ in ids}), len(ids), sum(1 for _, d in ids if d)]

sickle = Sickle(endpoint)
with Scythe(endpoint) as scythe:
    for label, prefix, args in selections:
        kw = dict(metadataPrefix=prefix, **args)
        tally(f"sickle/ListIdentifiers/{prefix}/{label}",
              ((h.identifier, h.deleted) for h in sickle.ListIdentifiers(ignore_deleted=False, **kw)))
        tally(f"sickle/ListRecords/{prefix}/{label}",
              ((r.header.identifier, r.header.deleted) for r in sickle.ListRecords(ignore_deleted=False, **kw)))
        skw = dict(metadata_prefix=prefix, from_=args.get("from"), until=args.get("until"), set_=args.get("set"))
        tally(f"scythe/ListIdentifiers/{prefix}/{label}",
              ((h.identifier, h.deleted) for h in scythe.list_identifiers(**skw)))
        tally(f"scythe/ListRecords/{prefix}/{label}",
              ((r.header.identifier, r.header.deleted) for r in scythe.list_records(**skw)))

registry = MetadataRegistry()
registry.registerReader("oai_dc", oai_dc_reader)
for label, prefix, args in selections:
    if prefix != "oai_dc":
        registry.registerReader(prefix, MetadataReader(fields={}, namespaces={}))
pyoai = Client(endpoint, registry)
import datetime
def when(s, end):
    if s is None:
        return None
    if len(s) == 10:
        d = datetime.datetime.strptime(s, "%Y-%m-%d")
        return d
    return datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ")
for label, prefix, args in selections:
    kw = dict(metadataPrefix=prefix)
    if "set" in args: kw["set"] = args["set"]
    if "from" in args: kw["from_"] = when(args["from"], False)
    if "until" in args: kw["until"] = when(args["until"], True)
    tally(f"pyoai/ListIdentifiers/{prefix}/{label}",
          ((h.identifier(), h.isDeleted()) for h in pyoai.listIdentifiers(**kw)))
    tally(f"pyoai/ListRecords/{prefix}/{label}",
          ((h.identifier(), h.isDeleted()) for h, m, a in pyoai.listRecords(**kw)))
print(json.dumps(out))
