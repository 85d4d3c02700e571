import { createRoot } from 'react-dom/client';
import { App } from './App';
import { makeQueryClient } from './api/queries';
import './styles.css';
import { prefetchBootCase } from './lib/filePrefetch';

// Opening a case directly: download its scan and the viewer code while the app boots.
if (prefetchBootCase(window.location.pathname) != null) void import('./pages/CasePage');

// No <StrictMode>: its double-mount would create and tear down a WebGL context per viewer mount.
createRoot(document.getElementById('root')!).render(<App queryClient={makeQueryClient()} />);
