#!/usr/bin/env python3
"""Raw fen outside money.rs (issue #34 item 2), counted: lines that do arithmetic on `.fen()`
(operators, sums, wide casts, min/max, saturating/checked calls) in source and in tests, and
`Fen::from_fen` calls by crate (the store is the database and file edge). A report, not a gate:
`-v KEY…` lists the lines of those counts (arith_src, from_src_core, …).

    python3 .ci/raw_fen.py [ROOT] [-v KEY…]
"""
import re, sys, os

root = sys.argv[1] if len(sys.argv) > 1 and not sys.argv[1].startswith('-') else '.'
arith=re.compile(r'\.fen\(\)\s*(as i128\s*)?[-+*/%](?!>)|[-+*/%]=?\s*[\w.?()\[\]]*\.fen\(\)|\.sum(::<[^>]*>)?\(|saturating_|checked_|as i128|round_div|\.max\(|\.min\(|fold\(')
def files():
    for d,_,fs in os.walk(os.path.join(root,'crates')):
        for f in fs:
            if f.endswith('.rs') and f!='money.rs': yield os.path.join(d,f)
def is_test(path, lines, i):
    if '/tests/' in path or path.endswith('tests.rs'): return True
    # crude: after a line '#[cfg(test)]' at top level
    for j in range(i,-1,-1):
        if lines[j].startswith('#[cfg(test)]'): return True
    return False
edge=('cunji-store/src/',)  # store is the db/file edge for from_fen
res={'arith_src':[], 'arith_test':[], 'from_src_core':[], 'from_src_web':[], 'from_src_store':[], 'from_src_other':[], 'from_test':[]}
for p in sorted(files()):
    L=open(p).read().split('\n')
    for i,l in enumerate(L):
        t=is_test(p,L,i)
        rel=os.path.relpath(p,root)
        if '.fen()' in l and arith.search(l):
            res['arith_test' if t else 'arith_src'].append(f'{rel}:{i+1}: {l.strip()}')
        if 'Fen::from_fen' in l:
            n=l.count('Fen::from_fen')
            if t: k='from_test'
            elif 'cunji-core/' in rel: k='from_src_core'
            elif 'cunji-web/' in rel: k='from_src_web'
            elif 'cunji-store/' in rel: k='from_src_store'
            else: k='from_src_other'
            for _ in range(n): res[k].append(f'{rel}:{i+1}: {l.strip()}')
for k,v in res.items(): print(k,len(v))
if '-v' in sys.argv:
    for k in sys.argv[sys.argv.index('-v')+1:]:
        print('\n'.join(res[k]))
