#!/usr/bin/env python3
"""Every relative link in the project's Markdown (README.md, docs/, the READMEs and DEPLOY.md beside
the code) names a file that exists and, for `file.md#anchor`, a heading that GitHub would give that
anchor. Prints each broken link; exits 1 if there is one."""
import glob
import os
import re
import sys

os.chdir(os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))


def slug(heading):
    # GitHub's anchors: lower case, punctuation dropped (but - and _), spaces to hyphens.
    heading = heading.strip().lower()
    heading = re.sub(r"[^\w\- ]", "", heading)
    return heading.replace(" ", "-")


def anchors(path):
    found, in_block = set(), False
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.startswith("```"):
                in_block = not in_block
            elif not in_block and line.startswith("#"):
                found.add(slug(line.lstrip("#")))
    return found


pages = ["README.md"] + sorted(glob.glob("docs/*.md")) + sorted(
    p
    for p in glob.glob("*/**/*.md", recursive=True)
    if not re.search(r"(^|/)(node_modules|target|conformance|cdk\.out)/", p) and not p.startswith("docs/")
)
broken = 0
for page in pages:
    with open(page, encoding="utf-8") as f:
        text = re.sub(r"```.*?```", "", f.read(), flags=re.S)
    for match in re.finditer(r"\]\(([^)\s]+)\)", text):
        link = match.group(1)
        if re.match(r"[a-z]+:", link):
            continue
        path, _, anchor = link.partition("#")
        target = os.path.normpath(os.path.join(os.path.dirname(page), path)) if path else page
        if not os.path.exists(target):
            print(f"{page}: {link}: no such file")
            broken += 1
        elif anchor and target.endswith(".md") and anchor not in anchors(target):
            print(f"{page}: {link}: no heading with that anchor in {target}")
            broken += 1
print(f"doc links: {len(pages)} pages, {broken} broken")
sys.exit(1 if broken else 0)
