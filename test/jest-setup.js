// sa11y's toBeAccessible() matcher for the components' accessibility checks (axe-core rules).
import { setup } from '@sa11y/jest';

setup();
