"""Write a minimal pure-Python wheel (hello_cocalc 1.0) into the directory given as argv[1]."""
import base64
import hashlib
import os
import sys
import zipfile

FILES = {
    'hello_cocalc/__init__.py': 'GREETING = "hello from cocalc"\n',
    'hello_cocalc-1.0.dist-info/METADATA': 'Metadata-Version: 2.1\nName: hello-cocalc\nVersion: 1.0\n',
    'hello_cocalc-1.0.dist-info/WHEEL': 'Wheel-Version: 1.0\nGenerator: make_wheel\nRoot-Is-Purelib: true\nTag: py3-none-any\n',
}


def digest(text):
    return 'sha256=' + base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b'=').decode()


path = os.path.join(sys.argv[1], 'hello_cocalc-1.0-py3-none-any.whl')
with zipfile.ZipFile(path, 'w') as wheel:
    record = []
    for name, text in FILES.items():
        wheel.writestr(name, text)
        record.append('%s,%s,%d' % (name, digest(text), len(text.encode())))
    record.append('hello_cocalc-1.0.dist-info/RECORD,,')
    wheel.writestr('hello_cocalc-1.0.dist-info/RECORD', '\n'.join(record) + '\n')
print(path)
