#!/usr/bin/env python3
"""Import cycles between the modules of each crate (issue #34 item 9): a module's edges are the
`crate::…`, `super::…` and `self::…` paths it names outside its `#[cfg(test)] mod tests` (use lines
and paths in code, `{…}` groups expanded), resolved to the deepest module file they reach; a parent's
`mod` declaration of its child is not an edge. Every strongly connected set of more than one module
is a cycle. `-v` lists the edges inside each; the exit status is 1 when any cycle is found.

    python3 .ci/module_cycles.py [ROOT] [-v]
"""
import os, re, sys

args = [a for a in sys.argv[1:] if not a.startswith('-')]
root = args[0] if args else '.'
verbose = '-v' in sys.argv
def modpath(crate_src, path):
    rel=os.path.relpath(path,crate_src)[:-3].split(os.sep)
    if rel[-1] in ('mod','lib','main'): rel=rel[:-1]
    return tuple(rel)
total=0
for crate in sorted(os.listdir(os.path.join(root,'crates'))):
    src=os.path.join(root,'crates',crate,'src')
    if not os.path.isdir(src): continue
    mods={}
    for d,_,fs in os.walk(src):
        for f in fs:
            if f.endswith('.rs'):
                p=os.path.join(d,f); mods[modpath(src,p)]=p
    def resolve(parts):
        # longest prefix that is a module
        for n in range(len(parts),0,-1):
            if tuple(parts[:n]) in mods: return tuple(parts[:n])
        return None
    graph={m:set() for m in mods}
    for m,p in mods.items():
        text=open(p).read()
        # drop #[cfg(test)] mod tests { ... } at end (crude): cut from '#[cfg(test)]\nmod tests'
        i=text.find('#[cfg(test)]\nmod tests')
        if i>=0: text=text[:i]
        text=re.sub(r'//.*','',text)
        # expand use groups crudely: capture crate::a::b and super::a paths
        for mt in re.finditer(r'\b(crate|super|self)((?:::\w+)+)(?:::\{([^;]*?)\})?',text):
            base=mt.group(1); tail=[x for x in mt.group(2).split('::') if x]
            if base=='crate': start=[]
            elif base=='self': start=list(m) if os.path.basename(p) in ('mod.rs','lib.rs') else list(m)
            else:
                # super: parent of m (for mod.rs files, m is the dir module)
                start=list(m[:-1])
            targets=[start+tail]
            if mt.group(3):
                for item in re.split(r',',mt.group(3)):
                    item=item.strip().split(' as ')[0].strip()
                    if not item: continue
                    targets.append(start+tail+[x for x in re.split(r'::',item) if x and x!='{' ])
            for t in targets:
                r=resolve(t)
                if r is not None and r!=m:
                    graph[m].add(r)
    # tarjan
    idx={};low={};st=[];on=set();sccs=[];c=[0]
    sys.setrecursionlimit(10000)
    def sc(v):
        idx[v]=low[v]=c[0];c[0]+=1;st.append(v);on.add(v)
        for w in graph[v]:
            if w not in idx: sc(w);low[v]=min(low[v],low[w])
            elif w in on: low[v]=min(low[v],idx[w])
        if low[v]==idx[v]:
            comp=[]
            while True:
                w=st.pop();on.discard(w);comp.append(w)
                if w==v:break
            sccs.append(comp)
    for v in graph:
        if v not in idx: sc(v)
    cyc=[s for s in sccs if len(s)>1]
    total+=len(cyc)
    for s in cyc:
        names=sorted('::'.join(x) or 'lib' for x in s)
        print(f'{crate}: cycle of {len(s)}: {names}')
        if verbose:
            S=set(s)
            for a in sorted(s):
                for b in sorted(graph[a]&S):
                    print('    ','::'.join(a) or 'lib','->','::'.join(b) or 'lib')
print('cycles', total)
sys.exit(1 if total else 0)
