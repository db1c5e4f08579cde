/*
 * app.c - file.py[:NAME], package.module[:NAME] and NAME() factories.
 *
 * A file is loaded as a module named after its stem (so tracebacks and
 * pickles name it sensibly) unless that name is taken in sys.modules, in
 * which case a private name is used.  Its directory is already on sys.path
 * (py.c), so sibling imports work as with "python file.py".
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "autoconfig.h"

#include "app.h"

static const char loader_source[] =
"import importlib, importlib.util, os, sys\n"
"def load(target, is_file, name, factory):\n"
"    if is_file:\n"
"        path = os.path.abspath(target)\n"
"        if not os.path.isfile(path):\n"
"            raise FileNotFoundError('no such application file: %s' % target)\n"
"        modname = os.path.splitext(os.path.basename(path))[0]\n"
"        if not modname.isidentifier() or modname in sys.modules:\n"
"            modname = '_wsgi_fcgi_app'\n"
"        spec = importlib.util.spec_from_file_location(modname, path)\n"
"        if spec is None or spec.loader is None:\n"
"            raise ImportError('cannot load %s as a Python module' % target)\n"
"        mod = importlib.util.module_from_spec(spec)\n"
"        sys.modules[modname] = mod\n"
"        try:\n"
"            spec.loader.exec_module(mod)\n"
"        except BaseException:\n"
"            sys.modules.pop(modname, None)\n"
"            raise\n"
"    else:\n"
"        mod = importlib.import_module(target)\n"
"    obj = mod\n"
"    for part in name.split('.'):\n"
"        try:\n"
"            obj = getattr(obj, part)\n"
"        except AttributeError:\n"
"            raise AttributeError('%s has no attribute %r' % (target, name)) from None\n"
"    if factory:\n"
"        if not callable(obj):\n"
"            raise TypeError('%s:%s is not callable, so it cannot be a factory' % (target, name))\n"
"        obj = obj()\n"
"    if not callable(obj):\n"
"        what = '%s()' % name if factory else name\n"
"        raise TypeError('%s:%s is not callable (it is a %s)' % (target, what, type(obj).__name__))\n"
"    return obj\n";

PyObject *wf_app_load(const struct wf_app_spec *spec)
{
    PyObject *globals = NULL, *res = NULL, *load, *target = NULL, *name = NULL, *app = NULL;

    globals = PyDict_New();
    if (!globals)
        goto out;
    if (PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) < 0)
        goto out;
    if (PyDict_SetItemString(globals, "__name__", Py_None) < 0)
        goto out;
    res = PyRun_String(loader_source, Py_file_input, globals, globals);
    if (!res)
        goto out;
    load = PyDict_GetItemString(globals, "load");   /* borrowed */
    if (!load)
        goto out;
    target = PyUnicode_DecodeFSDefault(spec->target);
    name = PyUnicode_FromString(spec->name);
    if (!target || !name)
        goto out;
    app = PyObject_CallFunctionObjArgs(load, target, spec->is_file ? Py_True : Py_False, name,
                                       spec->factory ? Py_True : Py_False, NULL);
out:
    Py_XDECREF(name);
    Py_XDECREF(target);
    Py_XDECREF(res);
    Py_XDECREF(globals);
    return app;
}
