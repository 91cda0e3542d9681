const { serve } = await import('./serve.js');
serve();
