module.exports = {
  ...require('../../jest.preset.js'),
  displayName: 'storage-node',
};
