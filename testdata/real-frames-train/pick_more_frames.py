#!/usr/bin/python3
"""How the 36 frames added to this folder on 2 December 2026 were chosen (README.md).

Kept as it ran, from the repository root, except that the source folder is now the first
argument (it ran with /work/shared/data/microscope-frames) and the paths of this folder
and the evaluation sets are spelled out below. It prints the candidates left at each
distance from the frames already here, and writes the chosen files to /tmp/newtrain.txt.
It reads the frames already in this folder, so run again today it leaves the 36 out as
well and picks the 3 bursts that are still left.

    /usr/bin/python3 testdata/real-frames-train/pick_more_frames.py ../shared/data/microscope-frames
"""
import os, re, sys, datetime, csv, collections
S=sys.argv[1] if len(sys.argv) > 1 else '../shared/data/microscope-frames'
def ts(name):
    m=re.match(r'(\d{14})',name); return datetime.datetime.strptime(m.group(1),'%Y%m%d%H%M%S') if m else None
evals=set()
for f in os.listdir('testdata/real-frames')+os.listdir('testdata/microscope'):
    if f.endswith('.jpg'):
        t=ts(f.split('-',1)[1] if not f.startswith('non-algae') else f[len('non-algae-'):]); evals.add(t)
train=set()
for f in os.listdir('testdata/real-frames-train'):
    if f.endswith('.jpg'):
        train.add(ts(f[len('non-algae-'):] if f.startswith('non-algae') else f.split('-',1)[1]))
print(len(evals),len(train))
c=collections.Counter(); rows=[]
for d in sorted(os.listdir(S)):
    if not os.path.isdir(f'{S}/{d}'): continue
    for f in sorted(os.listdir(f'{S}/{d}')):
        if f.startswith('Copy') or not f.endswith('.jpg'): continue
        t=ts(f)
        if t is None: continue
        if any(abs((t-e).total_seconds())<=180 for e in evals): continue
        near_train=min(abs((t-e).total_seconds()) for e in train)
        rows.append((d,f,t,near_train))
print(len(rows))
for lim in (0,10,30,60):
    print(lim, collections.Counter(r[0] for r in rows if r[3]>lim))
import subprocess
sel=[r for r in rows if r[3]>30]
# cluster bursts: consecutive (sorted by time) within 20 s
sel.sort(key=lambda r:r[2])
groups=[]
for r in sel:
    if groups and (r[2]-groups[-1][-1][2]).total_seconds()<=20: groups[-1].append(r)
    else: groups.append([r])
print('groups',len(groups), collections.Counter(g[0][0] for g in groups))
out=[]
for g in groups:
    # prefer a plain file of 320x240
    for r in sorted(g,key=lambda r:('(1)' in r[1], r[1])):
        p=f'{S}/{r[0]}/{r[1]}'
        s=subprocess.run(['file',p],capture_output=True,text=True).stdout
        if '320x240' in s: out.append(r); break
print('picked',len(out), collections.Counter(r[0] for r in out))
with open('/tmp/newtrain.txt','w') as f:
    for r in out: f.write(f'{r[0]}/{r[1]}\n')
